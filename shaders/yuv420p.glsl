// RGBA8 output → yuv420p planes, as libswscale converts: BT.601 limited range; chroma a
// 2-pixel box across and a [1 3 3 1]/8 filter down (edge rows repeated). Each fragment
// writes four neighbouring plane bytes as one RGBA8 texel (software GL writes RGBA8 fastest,
// and a quarter of the fragments): LUMA writes Y into a (w/4, h) target; otherwise U and V go
// to two (w/8, h/2) targets, each chroma value from two bilinear fetches (weights 1/4, 3/4
// and 3/4, 1/4 between row pairs, 1/2 across). Read back, the targets are the planes' bytes.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_rgba;  // the renderer's output, top row first (rendered with flip_y)
#ifdef LUMA
out vec4 f_y;
float luma(ivec2 p) {
    vec3 c = texelFetch(u_rgba, p, 0).rgb;
    return (16.0 + dot(c, vec3(65.481, 128.553, 24.966))) / 255.0;
}
void main() {
    ivec2 p = ivec2(gl_FragCoord.xy) * ivec2(4, 1);
    f_y = vec4(luma(p), luma(p + ivec2(1, 0)), luma(p + ivec2(2, 0)), luma(p + ivec2(3, 0)));
}
#else
uniform vec2 u_texel;  // 1 / the output's size
out vec4 f_u;
out vec4 f_v;
vec3 chroma_rgb(vec2 base) {
    // chroma texel at `base` / 2 covers columns base.x, +1 and rows base.y - 1 .. base.y + 2
    float x = (base.x + 1.0) * u_texel.x;  // between the two columns: 1/2 each
    return 0.5 * texture(u_rgba, vec2(x, (base.y + 0.25) * u_texel.y)).rgb
         + 0.5 * texture(u_rgba, vec2(x, (base.y + 1.75) * u_texel.y)).rgb;
}
void main() {
    vec2 base = floor(gl_FragCoord.xy) * vec2(8.0, 2.0);
    mat4x3 c = mat4x3(chroma_rgb(base), chroma_rgb(base + vec2(2.0, 0.0)),
                      chroma_rgb(base + vec2(4.0, 0.0)), chroma_rgb(base + vec2(6.0, 0.0)));
    f_u = (128.0 + vec3(-37.797, -74.203, 112.0) * c) / 255.0;
    f_v = (128.0 + vec3(112.0, -93.786, -18.214) * c) / 255.0;
}
#endif
#endif
