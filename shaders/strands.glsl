// Strands as glowing camera-facing ribbons: GL lines widened in a geometry shader.
// (On software GL the cheaper strands_lines.glsl carries the same light.)
#include "chunks/camera.glsl"
#include "chunks/palette.glsl"
#include "chunks/strand_light.glsl"

#ifdef VERTEX_SHADER
in float in_x;
in float in_y;
in float in_z;
out float vs_s;
out float vs_depth;
flat out int vs_bundle;
void main() {
    strand_vertex(gl_VertexID, vs_s, vs_bundle);
    vec4 eye = u_view * vec4(in_x, in_y, in_z, 1.0);
    vs_depth = -eye.z;
    gl_Position = u_proj * eye;
}
#endif

#ifdef GEOMETRY_SHADER
layout(lines) in;
layout(triangle_strip, max_vertices = 4) out;
in float vs_s[];
in float vs_depth[];
flat in int vs_bundle[];
out vec3 g_color;
out float g_across;
void main() {
    vec4 a = gl_in[0].gl_Position;
    vec4 b = gl_in[1].gl_Position;
    int bundle = vs_bundle[0];
    if (u_bundle_alpha[bundle] <= 0.0 || a.w <= 0.0 || b.w <= 0.0) return;
    vec2 dir = b.xy / b.w * u_viewport - a.xy / a.w * u_viewport;
    float len = length(dir);
    dir = len > 1e-4 ? dir / len : vec2(1.0, 0.0);
    vec2 normal = vec2(-dir.y, dir.x);
    vec4 p[2] = vec4[2](a, b);
    for (int k = 0; k < 2; ++k) {
        float w_wanted;
        vec3 light = strand_light(bundle, vs_s[k], vs_depth[k], w_wanted);
        // never thinner than 1.5 px (thinner ribbons alias into dots): fade instead
        float w = max(w_wanted, 1.5);
        vec2 off = normal * w / u_viewport;
        for (int side = -1; side <= 1; side += 2) {
            g_color = light * (w_wanted / w);
            g_across = float(side);
            gl_Position = p[k] + vec4(off * float(side) * p[k].w, 0.0, 0.0);
            EmitVertex();
        }
    }
    EndPrimitive();
}
#endif

#ifdef FRAGMENT_SHADER
in vec3 g_color;
in float g_across;
out vec4 f_color;
void main() {
    float d = abs(g_across);
    float core = exp(-d * d * 10.0);     // a bright thin core...
    float halo = (1.0 - d * d) * 0.35;   // ...inside a soft halo, zero at the edge
    float rim = u_rim * smoothstep(0.55, 0.9, d) * (1.0 - d) * 4.0;
    f_color = vec4(g_color * (core + halo + rim), 1.0);
}
#endif
