// Strands as one-pixel GL lines: the path for software GL, where geometry-shader ribbons cost
// several times more. Each line carries the light a ribbon of the wanted width would (its
// profile integrates to about 0.515 × width per unit length, its rim to 0.1635 × width × rim),
// and bloom spreads the glow; the rim's light is in the thread, not on separate edges.
#include "chunks/camera.glsl"
#include "chunks/palette.glsl"
#include "chunks/strand_light.glsl"

#ifdef VERTEX_SHADER
in float in_x;
in float in_y;
in float in_z;
out vec3 v_color;
void main() {
    float s;
    int bundle;
    strand_vertex(gl_VertexID, s, bundle);
    vec4 eye = u_view * vec4(in_x, in_y, in_z, 1.0);
    float width_px;
    vec3 light = strand_light(bundle, s, -eye.z, width_px);
    v_color = light * (CORE_LIGHT + RIM_LIGHT * u_rim) * max(width_px, 0.0);
    gl_Position = u_proj * eye;
    if (u_bundle_alpha[bundle] <= 0.0) gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
}
#endif

#ifdef FRAGMENT_SHADER
in vec3 v_color;
out vec4 f_color;
void main() {
    f_color = vec4(v_color, 1.0);
}
#endif
