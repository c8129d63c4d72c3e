/* What the process may do: checked before loading so the error names the fix. */
#ifndef TFT_PRIVS_H
#define TFT_PRIVS_H

#include <stdbool.h>

/*
 * True when the effective set allows loading and attaching cgroup_skb
 * programs: CAP_SYS_ADMIN, or CAP_BPF together with CAP_NET_ADMIN.
 */
bool privs_can_load_bpf(void);

#endif /* TFT_PRIVS_H */
