/*
 * Short names of real-looking cgroup v2 paths: systemd system and user
 * slices, container scopes of each runtime under both cgroup drivers,
 * kubepods of each QoS class, and paths that are none of these.
 */
#include <string.h>

#include "cgroup_name.h"
#include "t.h"

#define ID "3f2a1b9c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"

static void expect(const char *path, const char *want)
{
	char buf[256];

	CHECK_STR(cgroup_short_name(path, buf, sizeof(buf)), want, path);
}

int main(void)
{
	char small[8];

	expect("/system.slice/nginx.service", "nginx.service");
	expect("/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service");
	expect("/user.slice/user-1000.slice/user@1000.service/app.slice/"
	       "app-gnome-firefox-4242.scope",
	       "user@1000.service");
	expect("/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
	       "user@1000.service");
	expect("/user.slice/user-1000.slice/session-3.scope",
	       "/user.slice/user-1000.slice/session-3.scope");
	expect("/init.scope", "/init.scope");
	expect("/", "/");
	/* docker, containerd, cri-o and podman: the systemd driver's scopes */
	expect("/system.slice/docker-" ID ".scope", "docker:3f2a1b9c4d5e");
	expect("/system.slice/cri-containerd-" ID ".scope", "docker:3f2a1b9c4d5e");
	expect("/machine.slice/libpod-" ID ".scope", "docker:3f2a1b9c4d5e");
	expect("/machine.slice/libpod-" ID ".scope/container", "docker:3f2a1b9c4d5e");
	expect("/system.slice/crio-" ID ".scope", "docker:3f2a1b9c4d5e");
	/* the cgroupfs driver: a bare id */
	expect("/docker/" ID, "docker:3f2a1b9c4d5e");
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
	       "docker:3f2a1b9c4d5e");
	/* kubepods: the pod, whatever the QoS class and driver */
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod1d2c3b4a_5e6f_7081_92a3_b4c5d6e7f809.slice/"
	       "cri-containerd-" ID ".scope",
	       "pod:1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809");
	expect("/kubepods.slice/kubepods-besteffort.slice/"
	       "kubepods-besteffort-pod1d2c3b4a_5e6f_7081_92a3_b4c5d6e7f809.slice/crio-" ID
	       ".scope",
	       "pod:1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809");
	expect("/kubepods.slice/kubepods-pod1d2c3b4a_5e6f_7081_92a3_b4c5d6e7f809.slice/"
	       "cri-containerd-" ID ".scope",
	       "pod:1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809");
	expect("/kubepods/burstable/pod1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809/" ID,
	       "pod:1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809");
	expect("/kubepods/pod1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809/" ID,
	       "pod:1d2c3b4a-5e6f-7081-92a3-b4c5d6e7f809");
	/* the test's own cgroups, named like a unit and a container scope */
	expect("/tft-e2e-1/tft-srv.service", "tft-srv.service");
	expect("/tft-e2e-1/docker-" ID ".scope", "docker:3f2a1b9c4d5e");
	/* not containers: a short or non-hex tail */
	expect("/system.slice/run-r1234.scope", "/system.slice/run-r1234.scope");
	expect("/a/docker-xyz.scope", "/a/docker-xyz.scope");
	/* cut to the buffer */
	CHECK_STR(cgroup_short_name("/system.slice/nginx.service", small, sizeof(small)), "nginx.s",
		  "cut");
	return t_done();
}
