// ACES filmic curve (Narkowicz's fit) and display encoding.
// Pure black stays pure black: holographic foils treat black as transparent.
vec3 aces_filmic(vec3 x) {
    const float a = 2.51, b = 0.03, c = 2.43, d = 0.59, e = 0.14;
    return clamp((x * (a * x + b)) / (x * (c * x + d) + e), 0.0, 1.0);
}

// x^(1/2.2) as a fit of sqrt terms: within 1/255 everywhere, exactly 0 at 0, and about
// twice as cheap as pow() on software GL, where this full-screen pass is the most expensive.
vec3 encode_display(vec3 linear) {
    vec3 r = sqrt(linear);
    return clamp(0.95503805 * r - 0.05116241 * linear + 0.09550423 * sqrt(r), 0.0, 1.0);
}
