// The hologram look: glitch tearing, chromatic fringe, scanlines and interference flicker.
uniform float u_scanlines;
uniform float u_scanline_density;
uniform float u_rows;  // the picture's height in output pixels
uniform float u_chromatic;
uniform float u_flicker;
uniform float u_glitch;
uniform float u_time;

float hash12(vec2 p) {
    vec3 q = fract(vec3(p.xyx) * 0.1031);
    q += dot(q, q.yzx + 33.33);
    return fract((q.x + q.y) * q.z);
}

// Shift blocks of rows sideways, a few at a time, re-rolled 12 times a second.
vec2 glitch_uv(vec2 uv) {
    if (u_glitch <= 0.0) return uv;
    float block = floor(uv.y * 28.0);
    float tick = floor(u_time * 12.0);
    float pick = hash12(vec2(block, tick));
    if (pick < u_glitch * 0.35) {
        uv.x += (hash12(vec2(tick, block + 7.0)) - 0.5) * 0.12 * u_glitch;
    }
    return uv;
}

// Red and blue sampled slightly outward and inward from the centre, like a cheap lens.
vec3 fringe(sampler2D hdr, sampler2D bloom, float bloom_strength, vec2 uv) {
    vec2 d = (uv - 0.5) * u_chromatic;
    vec3 c;
    c.r = texture(hdr, uv + d).r + bloom_strength * texture(bloom, uv + d).r;
    c.g = texture(hdr, uv).g + bloom_strength * texture(bloom, uv).g;
    c.b = texture(hdr, uv - d).b + bloom_strength * texture(bloom, uv - d).b;
    return c;
}

float scan_and_flicker(vec2 uv) {
    float k = 1.0;
    if (u_scanlines > 0.0) {
        // lines per picture height, whatever the resolution: each pixel shows the lines'
        // average over its height (a box filter: sinc contrast), and where the output has
        // fewer than about 1.5 rows per line they blend into their mean dimming instead of
        // aliasing into coarser bands
        float f = u_scanline_density / u_rows;  // cycles per output row
        float x = 3.14159265 * max(f, 1e-4);
        float contrast = sin(x) / x * clamp((0.75 - f) * 4.0, 0.0, 1.0);
        k *= 1.0 - u_scanlines * 0.5 * (1.0 + contrast * cos(6.2831853 * uv.y * u_scanline_density));
    }
    if (u_flicker > 0.0) {
        float band = 0.5 + 0.5 * sin(uv.y * 40.0 - u_time * 9.0);
        float flick = hash12(vec2(floor(u_time * 30.0), 3.0));
        k *= 1.0 - u_flicker * (0.25 * band * band + 0.2 * flick);
    }
    return k;
}
