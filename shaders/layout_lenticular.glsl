// Subpixel interleave of a quilt for a lenticular (Looking Glass-style) panel; the maths is
// in engine/render/layouts/lenticular.py. Each colour channel picks its own view.
#include "chunks/fullscreen.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_quilt;
uniform ivec2 u_tiles;      // cols, rows
uniform vec2 u_portion;     // the part of the quilt texture the tiles cover
uniform vec2 u_inset;       // half a texel of one tile, in tile UV: no bleeding between tiles
uniform float u_pitch;      // pitch' (lenticules per output width)
uniform float u_tilt;
uniform float u_subp;
uniform float u_center;
uniform int u_inv_view;
uniform ivec2 u_flip_image; // flipImageX, flipImageY
uniform int u_flip_subp;
uniform int u_flip_y;       // 1 when the target is read back top row first
in vec2 v_uv;
out vec4 f_color;

vec3 view_sample(vec2 uv, float view) {
    float cols = float(u_tiles.x);
    vec2 tile = vec2(mod(view, cols), floor(view / cols));
    return texture(u_quilt, (tile + uv) / vec2(u_tiles) * u_portion).rgb;
}

void main() {
    vec2 uv = vec2(v_uv.x, u_flip_y == 1 ? 1.0 - v_uv.y : v_uv.y);  // panel UV, y up
    vec2 suv = mix(uv, 1.0 - uv, vec2(u_flip_image));
    suv = clamp(suv, u_inset, 1.0 - u_inset);
    float n = float(u_tiles.x * u_tiles.y);
    vec3 rgb;
    for (int c = 0; c < 3; ++c) {
        float sub = float(u_flip_subp == 1 ? 2 - c : c);
        float phase = fract((uv.x + sub * u_subp + uv.y * u_tilt) * u_pitch - u_center);
        if (u_inv_view == 1) phase = 1.0 - phase;
        float view = min(floor(phase * n), n - 1.0);
        rgb[c] = view_sample(suv, view)[c];
    }
    f_color = vec4(rgb, 1.0);
}
#endif
