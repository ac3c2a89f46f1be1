// Internal to the harness library: how an error message shows a string the user gave (a token, an
// environment variable's value, a line of a regression file).
#pragma once

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace interleave::detail {

// Bytes of user input an error message quotes: enough to recognize the input, while a 50 MB line
// of NUL bytes still gives a one-line message.
inline constexpr std::size_t kQuotedBytes = 80;

// `text` between single quotes, at most kQuotedBytes of it, with C escapes for quotes, backslashes,
// control characters, NUL and non-ASCII bytes (what() is a C string: a raw NUL would cut the
// message short, a raw newline would split it); a longer text is followed by "... (N more bytes)".
inline std::string quote_input(std::string_view text) {
  const std::string_view shown = text.substr(0, kQuotedBytes);
  std::string out = absl::StrCat("'", absl::CHexEscape(absl::string_view(shown.data(), shown.size())), "'");
  if (text.size() > shown.size()) absl::StrAppend(&out, "... (", text.size() - shown.size(), " more bytes)");
  return out;
}

}  // namespace interleave::detail
