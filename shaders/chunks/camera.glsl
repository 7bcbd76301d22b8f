// Camera matrices shared by every 3D pass.
uniform mat4 u_view;
uniform mat4 u_proj;
uniform vec2 u_viewport;      // render target size in pixels
uniform float u_pixel_scale;  // u_viewport.y / 1080: sizes are given in 1080p pixels
