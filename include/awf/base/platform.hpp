// Included first by every source file of awf-net, before any other header.
//
// glibc's <netinet/in.h> and the kernel's <linux/in.h> (pulled in by the netfilter and
// rtnetlink headers) define the same structures. glibc's header, seen first, sets the guards
// that make the kernel's skip its copies; the other order is a redefinition error. Keeping
// that rule in one place means no file has to know which of its headers drag in linux/in.h.
#pragma once

#include <netinet/in.h>
