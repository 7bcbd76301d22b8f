// Bloom, step 1: keep what is brighter than the threshold (soft knee), at half resolution
// (quarter with QUARTER, on software GL, where the half-resolution passes cost the most;
// BOXED: the source is the quarter-resolution 8x8 box average, taken on the CPU already).
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_source;
uniform vec2 u_texel;       // 1 / source size
uniform float u_threshold;
uniform float u_knee;
in vec2 v_uv;
out vec4 f_color;
void main() {
#if defined(BOXED)
    vec3 c = texture(u_source, v_uv).rgb;
#elif defined(QUARTER)
    // 16 bilinear taps = an 8x8 box: straight to quarter resolution without aliasing
    vec3 c = vec3(0.0);
    for (int j = -3; j <= 3; j += 2)
        for (int i = -3; i <= 3; i += 2)
            c += texture(u_source, v_uv + u_texel * vec2(i, j)).rgb;
    c *= 1.0 / 16.0;
#else
    // 4 bilinear taps = a 4x4 box: halves the resolution without aliasing
    vec3 c = texture(u_source, v_uv + u_texel * vec2(-1.0, -1.0)).rgb
           + texture(u_source, v_uv + u_texel * vec2( 1.0, -1.0)).rgb
           + texture(u_source, v_uv + u_texel * vec2(-1.0,  1.0)).rgb
           + texture(u_source, v_uv + u_texel * vec2( 1.0,  1.0)).rgb;
    c *= 0.25;
#endif
    float lum = max(c.r, max(c.g, c.b));
    float soft = clamp(lum - u_threshold + u_knee, 0.0, 2.0 * u_knee);
    soft = soft * soft / (4.0 * u_knee + 1e-5);
    float w = max(soft, lum - u_threshold) / max(lum, 1e-5);
    f_color = vec4(c * w, 1.0);
}
#endif
