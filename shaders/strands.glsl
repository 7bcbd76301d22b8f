// Strands as glowing camera-facing ribbons: GL lines widened in a geometry shader.
#include "chunks/camera.glsl"
#include "chunks/palette.glsl"

uniform int u_strands;              // strands in the layer (N)
uniform int u_points;               // points per strand (M)
uniform int u_strands_per_bundle;
uniform float u_width;              // ribbon width in 1080p pixels
uniform float u_intensity;
uniform float u_rim;                // glow on the ribbon edges, like light grazing a tube
uniform float u_depth_fade;         // light lost per unit of distance beyond the view centre

#ifdef VERTEX_SHADER
in float in_x;
in float in_y;
in float in_z;
out float vs_s;
out float vs_depth;
flat out int vs_bundle;
void main() {
    int j = gl_VertexID / u_strands;
    int i = gl_VertexID - j * u_strands;
    vs_s = float(j) / float(u_points - 1);
    vs_bundle = i / u_strands_per_bundle;
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
    float alpha = u_bundle_alpha[bundle];
    if (alpha <= 0.0 || a.w <= 0.0 || b.w <= 0.0) return;
    vec2 sa = a.xy / a.w * u_viewport;
    vec2 sb = b.xy / b.w * u_viewport;
    vec2 dir = sb - sa;
    float len = length(dir);
    dir = len > 1e-4 ? dir / len : vec2(1.0, 0.0);
    vec2 normal = vec2(-dir.y, dir.x);
    vec4 pal = u_bundle_color[bundle];
    float s[2] = float[2](vs_s[0], vs_s[1]);
    float depth[2] = float[2](vs_depth[0], vs_depth[1]);
    // depth cue: strands beyond the view centre dim, so the braid reads front to back
    float centre = length(u_view[3].xyz);
    vec4 p[2] = vec4[2](a, b);
    for (int k = 0; k < 2; ++k) {
        // taper towards the tip, brighter towards the root
        float taper = mix(1.0, 0.35, s[k]);
        float w_wanted = u_width * u_pixel_scale * taper;
        // never thinner than 1.5 px (thinner ribbons alias into dots): fade instead
        float w = max(w_wanted, 1.5);
        vec2 off = normal * w / u_viewport;
        float cue = exp(-u_depth_fade * max(depth[k] - centre, 0.0));
        vec3 c = pal.rgb * pal.a * alpha * u_intensity * mix(1.2, 0.6, s[k]) * (w_wanted / w) * cue;
        for (int side = -1; side <= 1; side += 2) {
            g_color = c;
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
