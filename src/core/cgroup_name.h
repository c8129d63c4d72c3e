/* What a person recognises in a cgroup v2 path: a systemd unit, a container, a pod. */
#ifndef TFT_CGROUP_NAME_H
#define TFT_CGROUP_NAME_H

#include <stddef.h>

/* Characters of a container id shown, as docker ps shows them. */
#define CGROUP_NAME_ID_CHARS 12

/*
 * The short form of a cgroup path ("/system.slice/nginx.service") into buf:
 *   pod:<uid>          anywhere under kubepods (the pod, not its containers)
 *   docker:<12 hex>    a container scope of docker, containerd, cri-o or
 *                      podman ("docker-<id>.scope", "cri-containerd-<id>.scope",
 *                      "crio-<id>.scope", "libpod-<id>.scope") or a cgroupfs
 *                      driver's bare id directory
 *   <unit>.service     the outermost systemd service ("user@1000.service" for
 *                      anything in a user's manager)
 *   the path itself    otherwise
 * Cut to fit buf. Returns buf.
 */
const char *cgroup_short_name(const char *path, char *buf, size_t size);

#endif /* TFT_CGROUP_NAME_H */
