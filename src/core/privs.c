#include <sys/capability.h>

#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8; older libcap headers lack the name */
#endif

static bool has(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

bool privs_can_load_bpf(void)
{
	cap_t caps = cap_get_proc();
	bool ok;

	if (!caps)
		return false;
	ok = has(caps, CAP_SYS_ADMIN) || (has(caps, CAP_BPF) && has(caps, CAP_NET_ADMIN));
	cap_free(caps);
	return ok;
}
