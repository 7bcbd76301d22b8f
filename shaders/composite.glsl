// Final pass: scene + bloom, hologram look, exposure, filmic tone map, display encoding.
#include "chunks/fullscreen.glsl"
#include "chunks/tonemap.glsl"
#ifdef HOLOGRAM
#include "chunks/hologram.glsl"
#endif

#ifdef FRAGMENT_SHADER
uniform sampler2D u_hdr;
uniform sampler2D u_bloom;
uniform float u_bloom_strength;
uniform float u_exposure;
uniform float u_black_level;  // linear light below this is shown as pure black
uniform int u_flip_y;         // 1 when the target is read back top row first (video files)
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec2 uv = u_flip_y == 1 ? vec2(v_uv.x, 1.0 - v_uv.y) : v_uv;
#ifdef HOLOGRAM
    uv = glitch_uv(uv);
    vec3 hdr = u_chromatic > 0.0
        ? fringe(u_hdr, u_bloom, u_bloom_strength, uv)
        : texture(u_hdr, uv).rgb + u_bloom_strength * texture(u_bloom, uv).rgb;
    hdr *= scan_and_flicker(uv);
#else
    vec3 hdr = texture(u_hdr, uv).rgb + u_bloom_strength * texture(u_bloom, uv).rgb;
#endif
    vec3 mapped = aces_filmic(hdr * u_exposure);
    // a faint haze would lift the black a holographic foil must keep transparent
    mapped = max(mapped - u_black_level, 0.0) / (1.0 - u_black_level);
    f_color = vec4(encode_display(mapped), 1.0);
}
#endif
