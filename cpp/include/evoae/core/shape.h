// Shape of a layer's buffer. Buffers are float32, channel-major then row-major:
// index = c*height*width + row*width + col.
#pragma once

#include <cstddef>
#include <string>

namespace evoae {

struct Shape {
  int height = 0;
  int width = 0;
  int channels = 0;

  std::size_t size() const {
    return static_cast<std::size_t>(height) * width * channels;
  }
  std::string str() const {  // "24x24x10" (h x w x c), as the reference page writes shapes
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
  bool operator==(const Shape& o) const {
    return height == o.height && width == o.width && channels == o.channels;
  }
};

}  // namespace evoae
