// Adds a CPU-splatted particle image (RGB32F, same size as the view) into the HDR target.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_splat;
in vec2 v_uv;
out vec4 f_color;
void main() {
    f_color = vec4(texelFetch(u_splat, ivec2(gl_FragCoord.xy), 0).rgb, 1.0);
}
#endif
