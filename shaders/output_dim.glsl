// The output stage's master and blackout: black blended over the output with alpha 1 - gain
// (blend: dst * gain), after its mapping pass. Drawn only when gain < 1.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform float u_gain;
in vec2 v_uv;
out vec4 f_color;
void main() {
    f_color = vec4(0.0, 0.0, 0.0, 1.0 - u_gain);
}
#endif
