// ACES filmic curve (Narkowicz's fit) and display encoding.
// Pure black stays pure black: holographic foils treat black as transparent.
vec3 aces_filmic(vec3 x) {
    const float a = 2.51, b = 0.03, c = 2.43, d = 0.59, e = 0.14;
    return clamp((x * (a * x + b)) / (x * (c * x + d) + e), 0.0, 1.0);
}

vec3 encode_display(vec3 linear) {
    return pow(linear, vec3(1.0 / 2.2));
}
