// Calibration handles: a square per corner or mesh point, the picked one highlighted.
#ifdef VERTEX_SHADER
in vec2 in_pos;          // output-normalised, origin top-left, y down
in float in_picked;
out float v_picked;
void main() {
    v_picked = in_picked;
    gl_PointSize = in_picked > 0.5 ? 13.0 : 9.0;
    gl_Position = vec4(2.0 * in_pos.x - 1.0, 1.0 - 2.0 * in_pos.y, 0.0, 1.0);
}
#endif

#ifdef FRAGMENT_SHADER
in float v_picked;
out vec4 f_color;
void main() {
    vec2 d = abs(gl_PointCoord - 0.5);
    bool rim = max(d.x, d.y) > 0.3;
    vec3 fill = v_picked > 0.5 ? vec3(1.0, 0.2, 0.1) : vec3(0.1, 0.9, 1.0);
    f_color = vec4(rim ? vec3(0.0) : fill, 1.0);
}
#endif
