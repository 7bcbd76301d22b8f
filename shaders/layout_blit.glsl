// Copy a square view into its tile of the output, turned by quarter turns: texel-exact
// (texelFetch, no filtering), so a rotated tile is a permutation of the view's pixels.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_source;
uniform ivec2 u_origin;  // the tile's lower-left pixel in the target
uniform int u_turns;     // counter-clockwise quarter turns as seen on the display
uniform int u_flip_y;    // 1 when the target is read back top row first
out vec4 f_color;
void main() {
    ivec2 n = textureSize(u_source, 0);
    ivec2 p = clamp(ivec2(gl_FragCoord.xy) - u_origin, ivec2(0), n - 1);
    if (u_flip_y == 1) p.y = n.y - 1 - p.y;  // p: display pixel, y up
    ivec2 s = p;
    if (u_turns == 1) s = ivec2(p.y, n.x - 1 - p.x);
    else if (u_turns == 2) s = n - 1 - p;
    else if (u_turns == 3) s = ivec2(n.y - 1 - p.y, p.x);
    f_color = texelFetch(u_source, s, 0);
}
#endif
