// How much light a strand emits at a point: bundle colour and glow, brighter at the root,
// tapering to the tip, dimmer beyond the view centre (a depth cue that reads front to back).
// Shared by the ribbon and the line path so both carry the same light per unit length.
uniform int u_strands;              // strands in the layer (N)
uniform int u_points;               // points per strand (M)
uniform int u_strands_per_bundle;
uniform float u_width;              // ribbon width in 1080p pixels
uniform float u_intensity;
uniform float u_depth_fade;         // light lost per unit of distance beyond the view centre
uniform float u_rim;                // glow on the ribbon edges, like light grazing a tube

// light per pixel of ribbon width, integrated across a ribbon (strands.glsl's profile): the
// core and halo, and the rim per unit of u_rim. Threads (lines) carry it along one line.
const float CORE_LIGHT = 0.515;
const float RIM_LIGHT = 0.1635;

// width_px: the ribbon width wanted here, in pixels of this target
vec3 strand_light(int bundle, float s, float depth, out float width_px) {
    vec4 pal = u_bundle_color[bundle];
    float centre = length(u_view[3].xyz);
    float cue = exp(-u_depth_fade * max(depth - centre, 0.0));
    width_px = u_width * u_pixel_scale * mix(1.0, 0.35, s);
    return pal.rgb * pal.a * u_bundle_alpha[bundle] * u_intensity * mix(1.2, 0.6, s) * cue;
}

// point j of strand i sits at vertex j·N + i
void strand_vertex(int vertex_id, out float s, out int bundle) {
    int j = vertex_id / u_strands;
    int i = vertex_id - j * u_strands;
    s = float(j) / float(u_points - 1);
    bundle = i / u_strands_per_bundle;
}
