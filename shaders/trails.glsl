// Feedback trails: adds the previous frame's HDR light, scaled by u_amount.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_source;
uniform float u_amount;
in vec2 v_uv;
out vec4 f_color;
void main() {
    f_color = vec4(texture(u_source, v_uv).rgb * u_amount, 1.0);
}
#endif
