/* floor.c: the floor of a no-change plan, for bench/compare.py. Only the reads a plan of the
 * bench workload cannot do without, nothing parsed or compared:
 *
 *   - the list and the XML of every domain, network and storage pool (virConnectListAll*), and
 *     the list and the XML of every volume of every pool (virStoragePoolListAllVolumes);
 *   - which of them are active and which autostart: the same lists filtered by libvirt
 *     (ACTIVE, AUTOSTART flags), one call each, since no XML says it;
 *   - one netlink dump of the links and one of the addresses (RTM_GETLINK, RTM_GETADDR).
 *
 *   make bench/floor
 *   bench/floor [URI]      (default qemu:///system)
 *
 * Prints one line of JSON on stdout, for the bench to check that everything was read:
 *
 *   {"domains": 500, "networks": 20, "pools": 1, "volumes": 500, "xml_bytes": 3012345,
 *    "links": 42, "addresses": 21}
 *
 * Exit status 0, or 1 with a sentence on stderr when a call fails; 2 on usage errors. Links
 * against libvirt only (no libpodform, no libnl): the netlink dumps are plain sockets. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

struct tally {
        long domains, networks, pools, volumes, links, addresses;
        unsigned long long xml_bytes;
};

static int fail(const char *what) {
        virErrorPtr e = virGetLastError();
        fprintf(stderr, "floor: %s failed: %s\n", what, e && e->message ? e->message : "unknown error");
        return -1;
}

/* Adds the length of one XML document, which the caller frees. */
static int take_xml(struct tally *t, char *xml, const char *what) {
        if (!xml)
                return fail(what);
        t->xml_bytes += strlen(xml);
        free(xml);
        return 0;
}

static int read_domains(virConnectPtr c, struct tally *t) {
        virDomainPtr *all = NULL, *some = NULL;
        int n = virConnectListAllDomains(c, &all, 0);
        if (n < 0)
                return fail("virConnectListAllDomains");
        int rc = 0;
        for (int i = 0; i < n; i++) {
                if (rc == 0 && take_xml(t, virDomainGetXMLDesc(all[i], 0), "virDomainGetXMLDesc") < 0)
                        rc = -1;
                virDomainFree(all[i]);
        }
        free(all);
        t->domains = n;
        static const unsigned filters[] = { VIR_CONNECT_LIST_DOMAINS_ACTIVE, VIR_CONNECT_LIST_DOMAINS_AUTOSTART };
        for (size_t f = 0; rc == 0 && f < sizeof filters / sizeof *filters; f++) {
                int k = virConnectListAllDomains(c, &some, filters[f]);
                if (k < 0)
                        return fail("virConnectListAllDomains (filtered)");
                for (int i = 0; i < k; i++)
                        virDomainFree(some[i]);
                free(some);
        }
        return rc;
}

static int read_networks(virConnectPtr c, struct tally *t) {
        virNetworkPtr *all = NULL, *some = NULL;
        int n = virConnectListAllNetworks(c, &all, 0);
        if (n < 0)
                return fail("virConnectListAllNetworks");
        int rc = 0;
        for (int i = 0; i < n; i++) {
                if (rc == 0 && take_xml(t, virNetworkGetXMLDesc(all[i], 0), "virNetworkGetXMLDesc") < 0)
                        rc = -1;
                virNetworkFree(all[i]);
        }
        free(all);
        t->networks = n;
        static const unsigned filters[] = { VIR_CONNECT_LIST_NETWORKS_ACTIVE, VIR_CONNECT_LIST_NETWORKS_AUTOSTART };
        for (size_t f = 0; rc == 0 && f < sizeof filters / sizeof *filters; f++) {
                int k = virConnectListAllNetworks(c, &some, filters[f]);
                if (k < 0)
                        return fail("virConnectListAllNetworks (filtered)");
                for (int i = 0; i < k; i++)
                        virNetworkFree(some[i]);
                free(some);
        }
        return rc;
}

static int read_volumes(virStoragePoolPtr pool, struct tally *t) {
        virStorageVolPtr *vols = NULL;
        int n = virStoragePoolListAllVolumes(pool, &vols, 0);
        if (n < 0)
                return fail("virStoragePoolListAllVolumes");
        int rc = 0;
        for (int i = 0; i < n; i++) {
                if (rc == 0 && take_xml(t, virStorageVolGetXMLDesc(vols[i], 0), "virStorageVolGetXMLDesc") < 0)
                        rc = -1;
                virStorageVolFree(vols[i]);
        }
        free(vols);
        t->volumes += n;
        return rc;
}

static int read_pools(virConnectPtr c, struct tally *t) {
        virStoragePoolPtr *all = NULL, *active = NULL, *autostart = NULL;
        int n = virConnectListAllStoragePools(c, &all, 0);
        if (n < 0)
                return fail("virConnectListAllStoragePools");
        int rc = 0;
        for (int i = 0; i < n; i++) {
                if (rc == 0 && take_xml(t, virStoragePoolGetXMLDesc(all[i], 0), "virStoragePoolGetXMLDesc") < 0)
                        rc = -1;
                virStoragePoolFree(all[i]);
        }
        free(all);
        t->pools = n;
        /* only an active pool lists its volumes (libvirt refuses an inactive one's) */
        int na = rc == 0 ? virConnectListAllStoragePools(c, &active, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE) : 0;
        if (na < 0)
                return fail("virConnectListAllStoragePools (active)");
        for (int i = 0; i < na; i++) {
                if (rc == 0 && read_volumes(active[i], t) < 0)
                        rc = -1;
                virStoragePoolFree(active[i]);
        }
        free(active);
        int nb = rc == 0 ? virConnectListAllStoragePools(c, &autostart, VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART) : 0;
        if (nb < 0)
                return fail("virConnectListAllStoragePools (autostart)");
        for (int i = 0; i < nb; i++)
                virStoragePoolFree(autostart[i]);
        free(autostart);
        return rc;
}

/* One netlink dump of `type` (RTM_GETLINK or RTM_GETADDR): the number of objects in it. */
static long dump(int type) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) {
                fprintf(stderr, "floor: netlink socket: %s\n", strerror(errno));
                return -1;
        }
        struct {
                struct nlmsghdr h;
                struct rtgenmsg g;
        } req = {
                .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)), .nlmsg_type = (unsigned short) type,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
                .g = { .rtgen_family = AF_UNSPEC },
        };
        long count = 0;
        if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
                fprintf(stderr, "floor: netlink send: %s\n", strerror(errno));
                count = -1;
        }
        static char buf[1 << 16];
        for (int done = count < 0; !done;) {
                ssize_t len = recv(fd, buf, sizeof buf, 0);
                if (len < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "floor: netlink recv: %s\n", strerror(errno));
                        count = -1;
                        break;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) len); h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_type == NLMSG_DONE) {
                                done = 1;
                                break;
                        }
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                fprintf(stderr, "floor: netlink dump %d refused\n", type);
                                count = -1;
                                done = 1;
                                break;
                        }
                        if (h->nlmsg_type == (type == RTM_GETLINK ? RTM_NEWLINK : RTM_NEWADDR))
                                count++;
                }
        }
        close(fd);
        return count;
}

int main(int argc, char **argv) {
        if (argc > 2) {
                fprintf(stderr, "usage: floor [URI]\n");
                return 2;
        }
        const char *uri = argc == 2 ? argv[1] : "qemu:///system";
        virConnectPtr c = virConnectOpen(uri);
        if (!c) {
                fail("virConnectOpen");
                return 1;
        }
        struct tally t = { 0 };
        int rc = read_domains(c, &t) < 0 || read_networks(c, &t) < 0 || read_pools(c, &t) < 0 ? 1 : 0;
        virConnectClose(c);
        if (rc == 0 && ((t.links = dump(RTM_GETLINK)) < 0 || (t.addresses = dump(RTM_GETADDR)) < 0))
                rc = 1;
        if (rc == 0)
                printf("{\"domains\": %ld, \"networks\": %ld, \"pools\": %ld, \"volumes\": %ld, \"xml_bytes\": %llu, "
                       "\"links\": %ld, \"addresses\": %ld}\n",
                       t.domains, t.networks, t.pools, t.volumes, t.xml_bytes, t.links, t.addresses);
        return rc;
}
