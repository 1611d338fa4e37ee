// Text that came from a party awf-net does not trust (a table someone else wrote, an NFLOG
// prefix), made safe to print.
#pragma once

#include <string>

namespace awf {

// One line that cannot end a string or a statement: printable ASCII stays; '"', '\\' and every
// other byte become \xHH. nft has no escapes in strings, so the output is inert in `nft -f` too.
std::string printable(const std::string& s);

} // namespace awf
