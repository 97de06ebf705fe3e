#pragma once
// Include/exclude globs for transfers, read the way rsync and .gitignore
// users expect:
//   *  any run of characters except '/'     **  any run, '/' included
//   ?  one character except '/'             [a-z] [!0-9]  a class
//   \x the character x
// A pattern without '/' is matched against the last component (so "*.tmp"
// matches "a/b/x.tmp"); with a '/' inside, against the whole path relative to
// the transfer's root; a leading '/' anchors it there; a trailing '/' is
// dropped. An exclude that matches a folder excludes all beneath it. With
// include patterns, only files matching one of them are taken.

#include <string>
#include <string_view>
#include <vector>

namespace de {

bool glob_match(std::string_view pattern, std::string_view path);

class PathFilter {
  public:
    PathFilter() = default;
    PathFilter(std::vector<std::string> include, std::vector<std::string> exclude);
    // path: relative, '/'-separated.
    bool accepts_file(std::string_view path) const;
    // false: skip the folder and everything beneath it.
    bool enters_dir(std::string_view path) const;
    bool empty() const { return m_include.empty() && m_exclude.empty(); }

  private:
    std::vector<std::string> m_include;
    std::vector<std::string> m_exclude;
};

}  // namespace de
