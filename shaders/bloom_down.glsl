// Bloom, step 2: halve again, one level of the pyramid per pass.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_source;
uniform vec2 u_texel;
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec3 c = texture(u_source, v_uv + u_texel * vec2(-1.0, -1.0)).rgb
           + texture(u_source, v_uv + u_texel * vec2( 1.0, -1.0)).rgb
           + texture(u_source, v_uv + u_texel * vec2(-1.0,  1.0)).rgb
           + texture(u_source, v_uv + u_texel * vec2( 1.0,  1.0)).rgb;
    f_color = vec4(c * 0.25, 1.0);
}
#endif
