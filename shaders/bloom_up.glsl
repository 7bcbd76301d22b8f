// Bloom, step 3: add each coarser level back onto the finer one with a 3x3 tent filter.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_source;   // the coarser level
uniform vec2 u_texel;         // its texel size
uniform float u_radius;
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec2 d = u_texel * u_radius;
    vec3 c = texture(u_source, v_uv).rgb * 4.0;
    c += (texture(u_source, v_uv + vec2(-d.x, 0.0)).rgb + texture(u_source, v_uv + vec2(d.x, 0.0)).rgb
        + texture(u_source, v_uv + vec2(0.0, -d.y)).rgb + texture(u_source, v_uv + vec2(0.0, d.y)).rgb) * 2.0;
    c += texture(u_source, v_uv + vec2(-d.x, -d.y)).rgb + texture(u_source, v_uv + vec2(d.x, -d.y)).rgb
       + texture(u_source, v_uv + vec2(-d.x, d.y)).rgb + texture(u_source, v_uv + vec2(d.x, d.y)).rgb;
    f_color = vec4(c / 16.0, 1.0);
}
#endif
