#pragma once

#include "gateway/core/issue.h"

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

namespace hl7gw::fhir::rest {

/// The reference tokens of an RFC 6901 JSON Pointer ("/a~1b/0" -> "a/b", "0"), unescaped
/// (~1 -> '/', ~0 -> '~'). "" is the whole document (no tokens). False when the pointer is
/// neither empty nor starts with '/', or holds a '~' not followed by 0 or 1.
bool parseJsonPointer(std::string_view pointer, std::vector<std::string>& tokens);

/// Applies an RFC 6902 JSON Patch (`patch`: an array of operation objects) to `target`:
/// add, remove, replace, move, copy, test, in order. Atomic: the operations run on a copy,
/// which replaces `target` only when all of them succeeded; on failure `target` is unchanged.
///
/// Array indexes are decimal without leading zeros; "-" names the end of an array (add,
/// and the target of move/copy). `add` to an existing member replaces it in place; a new
/// member goes last; member order is otherwise kept (removals do not reorder). `test`
/// compares by value (RFC 6902 §4.6): objects regardless of member order, numbers (kept as
/// text by parseJson) numerically, so 1 equals 1.0. Unknown members of an operation are
/// ignored (§4).
///
/// Values are copied into `target`'s allocator, so `patch` need not outlive the call.
///
/// On failure returns false and sets `issue` (severity error; no Location, the pointer is in
/// the text): code "invalid" when the patch document itself is malformed (not an array, an
/// operation without op/path/from/value, an unknown op, a malformed pointer), code
/// "processing" when it is well formed but cannot be applied (a path that does not exist, an
/// index out of range, moving a value into itself, a failed test). The text names the
/// operation's index (from 0) and its path: "operation 2 (replace /name/0/family): ...".
bool applyJsonPatch(const rapidjson::Value& patch, rapidjson::Document& target, core::Issue& issue);

/// RFC 6902 §4.6 equality, as `test` uses it.
bool jsonEqual(const rapidjson::Value& a, const rapidjson::Value& b);

} // namespace hl7gw::fhir::rest
