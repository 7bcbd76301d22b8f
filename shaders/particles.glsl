// Particles as soft round points, coloured by the bundle they were born from and as bright as
// its glow (the same glow that lights its strands).
#include "chunks/camera.glsl"
#include "chunks/palette.glsl"

uniform float u_size;        // point diameter in 1080p pixels
uniform float u_intensity;

#ifdef VERTEX_SHADER
in float in_x;
in float in_y;
in float in_z;
in float in_fade;
in float in_tint;    // 0..1 per particle: a little sparkle, as in the CPU splat
in int in_owner;
out vec3 v_color;
void main() {
    vec4 pal = u_bundle_color[in_owner];
    // below one pixel, shrink the light a point carries rather than its size, so small
    // renders are not flooded by points that cannot get any smaller
    float wanted = u_size * u_pixel_scale;
    float size = max(wanted, 1.0);
    float energy = (wanted * wanted) / (size * size);
    v_color = pal.rgb * pal.a * u_intensity * energy * in_fade * (0.7 + 0.6 * in_tint) * u_bundle_alpha[in_owner];
    gl_Position = u_proj * u_view * vec4(in_x, in_y, in_z, 1.0);
    gl_PointSize = size;
    if (in_fade <= 0.0) gl_Position = vec4(2.0, 2.0, 2.0, 1.0);  // outside the clip volume
}
#endif

#ifdef FRAGMENT_SHADER
in vec3 v_color;
out vec4 f_color;
void main() {
    vec2 q = gl_PointCoord * 2.0 - 1.0;
    float r2 = dot(q, q);
    if (r2 > 1.0) discard;
    float w = (1.0 - r2) * (1.0 - r2);
    f_color = vec4(v_color * w, 1.0);
}
#endif
