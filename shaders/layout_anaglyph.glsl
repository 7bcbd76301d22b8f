// Red–cyan anaglyph: the two eyes' display-encoded images, decoded to linear light, mixed by
// Dubois' least-squares matrices, clamped, encoded again. Black stays exactly black.
#include "chunks/fullscreen.glsl"
#include "chunks/tonemap.glsl"

#ifdef FRAGMENT_SHADER
uniform sampler2D u_left;
uniform sampler2D u_right;
uniform mat3 u_left_matrix;
uniform mat3 u_right_matrix;
uniform int u_flip_y;  // 1 when the target is read back top row first
out vec4 f_color;
void main() {
    ivec2 n = textureSize(u_left, 0);
    ivec2 p = clamp(ivec2(gl_FragCoord.xy), ivec2(0), n - 1);  // the viewport starts at 0, 0
    if (u_flip_y == 1) p.y = n.y - 1 - p.y;
    vec3 l = pow(texelFetch(u_left, p, 0).rgb, vec3(2.2));  // inverse of encode_display
    vec3 r = pow(texelFetch(u_right, p, 0).rgb, vec3(2.2));
    vec3 mixed = clamp(u_left_matrix * l + u_right_matrix * r, 0.0, 1.0);
    f_color = vec4(encode_display(mixed), 1.0);
}
#endif
