// Bloom, step 3: add each coarser level back onto the finer one. Four bilinear taps at
// diagonal half-texel offsets make a 4x4 tent filter for the price of four fetches.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_source;   // the coarser level
uniform vec2 u_texel;         // its texel size
uniform float u_radius;
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec2 d = u_texel * u_radius;
    vec3 c = texture(u_source, v_uv + vec2(-d.x, -d.y)).rgb + texture(u_source, v_uv + vec2(d.x, -d.y)).rgb
           + texture(u_source, v_uv + vec2(-d.x, d.y)).rgb + texture(u_source, v_uv + vec2(d.x, d.y)).rgb;
    f_color = vec4(c * 0.25, 1.0);
}
#endif
