// Per-bundle (per-participant) colour: rgb and glow in .a; alpha 0 hides the bundle.
#ifndef MAX_BUNDLES
#define MAX_BUNDLES 64
#endif
uniform vec4 u_bundle_color[MAX_BUNDLES];
uniform float u_bundle_alpha[MAX_BUNDLES];
