// A venue output in one pass: the view warped through the output's mesh and corner pin, its
// colour trimmed, soft-edge blended and masked. Or, with PATTERN set, a calibration pattern
// (1 grid, 2 white, 3 ramp) drawn in canvas coordinates through the same mapping.
// Optional parts are compiled in only when used (software GL pays per pixel for branches).
// Soft edges and masks change only with the mapping: the same shader bakes them (white,
// BLEND_U/BLEND_V/MASK) into an output-sized light map once, and each frame's pass applies
// them with one fetch (LIGHT_MAP).

#ifdef VERTEX_SHADER
in vec2 in_pos;          // where the image point lands inside the corner-pinned square (y down)
in vec2 in_uv;           // the image point: 0..1, origin top-left, y down
uniform mat3 u_corner;   // unit square -> output-normalised coordinates, homogeneous
out vec2 v_uv;
void main() {
    vec3 p = u_corner * vec3(in_pos, 1.0);
    v_uv = in_uv;
    // output-normalised (y down) to clip space, keeping w: perspective-correct interpolation
    // of v_uv makes the corner pin exact
    gl_Position = vec4(2.0 * p.x - p.z, p.z - 2.0 * p.y, 0.0, p.z);
}
#endif

#ifdef FRAGMENT_SHADER
uniform sampler2D u_view;
uniform vec4 u_src;      // image uv -> view texture coordinates: offset (xy), scale (zw)
uniform vec4 u_canvas;   // image uv -> canvas-normalised coordinates: offset, scale (patterns)
#ifdef GRADE
uniform vec3 u_grade;        // brightness, 1 / gamma, black level (on display-encoded values)
#endif
#if defined(BLEND_U) || defined(BLEND_V)
uniform sampler2D u_blend;   // N x 2: encoded soft-edge weight across u (row 0) and v (row 1)
#endif
#ifdef MASK
uniform sampler2D u_mask;    // output-sized: 0 inside a mask, feathered to 1 outside
#endif
#ifdef LIGHT_MAP
uniform sampler2D u_light;   // output-sized: soft edges times masks, baked by this shader
#endif
in vec2 v_uv;
out vec4 f_color;

#if PATTERN == 1
uniform float u_aspect;      // the canvas's width / height: the grid's cells are square
float grid_line(float s) {   // a line about two output pixels wide at each whole s
    return clamp(1.0 - abs(fract(s + 0.5) - 0.5) / max(fwidth(s), 1e-6), 0.0, 1.0);
}
#endif

void main() {
#if PATTERN == 0
    vec3 c = texture(u_view, u_src.xy + v_uv * u_src.zw).rgb;
#else
    vec2 p = u_canvas.xy + v_uv * u_canvas.zw;
#if PATTERN == 1
    // square cells an eighth of the canvas high, a line through the centre, and the border
    float lines = max(grid_line((p.x - 0.5) * 8.0 * u_aspect), grid_line(p.y * 8.0));
    vec3 c = vec3(max(lines, max(grid_line(p.x), grid_line(p.y))));
#elif PATTERN == 2
    vec3 c = vec3(1.0);
#else
    float steps = floor(clamp(p.x, 0.0, 0.9999) * 16.0) / 15.0;
    vec3 c = vec3(fract(p.y * 2.0) < 0.5 ? steps : clamp(p.x, 0.0, 1.0));
#endif
#endif
#ifdef GRADE
#ifdef GAMMA
    c = pow(c, vec3(u_grade.y));
#endif
    c = u_grade.z + (1.0 - u_grade.z) * min(c * u_grade.x, 1.0);
#endif
#ifdef BLEND_U
    c *= texture(u_blend, vec2(v_uv.x, 0.25)).r;
#endif
#ifdef BLEND_V
    c *= texture(u_blend, vec2(v_uv.y, 0.75)).r;
#endif
#ifdef MASK
    c *= texelFetch(u_mask, ivec2(gl_FragCoord.xy), 0).r;
#endif
#ifdef LIGHT_MAP
    c *= texelFetch(u_light, ivec2(gl_FragCoord.xy), 0).r;
#endif
    f_color = vec4(c, 1.0);
}
#endif
