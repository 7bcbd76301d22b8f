// The operator's overlay (status, errors), alpha-blended over the final image.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_overlay;
in vec2 v_uv;
out vec4 f_color;
void main() {
    f_color = texture(u_overlay, v_uv);
}
#endif
