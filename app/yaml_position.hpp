// How the YAML settings files (`download --config`, `daemon --config`) name
// the place of a problem: "NAME: line L, column C: MESSAGE".
#pragma once

#include <string>

namespace actorrent::app {

/// "NAME: line L, column C: MESSAGE" from a 0-based yaml-cpp mark (line, column);
/// "NAME: MESSAGE" when the line is unknown (negative). A negative column
/// leaves the column out.
inline std::string yaml_located(const std::string& name, int line0, int column0, const std::string& message) {
  std::string out = name + ": ";
  if (line0 >= 0) {
    out += "line " + std::to_string(line0 + 1);
    if (column0 >= 0)
      out += ", column " + std::to_string(column0 + 1);
    out += ": ";
  }
  return out + message;
}

} // namespace actorrent::app
