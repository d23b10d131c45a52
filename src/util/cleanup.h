/* cleanup.h: scope-bound release of the libraries' objects, as systemd's and libnl's typed
 * auto-cleanup helpers do it: `_cleanup_(pf_xml_docp) xmlDocPtr doc = ...;` frees the document
 * on every return, and TAKE_PTR(doc) hands it out instead. Each helper accepts NULL. */
#pragma once
#include <libvirt/libvirt.h>
#include <libxml/tree.h>
#include <netlink/msg.h>

#include "util/xalloc.h"

#define PF_DEFINE_CLEANUP(type, name, release)                                                  \
        static inline void name(type *p) {                                                     \
                if (*p)                                                                          \
                        release(*p);                                                             \
        }

PF_DEFINE_CLEANUP(xmlDocPtr, pf_xml_docp, xmlFreeDoc)
PF_DEFINE_CLEANUP(xmlNodePtr, pf_xml_nodep, xmlFreeNode)
static inline void pf_xml_charp(xmlChar **p) { xmlFree(*p); }
PF_DEFINE_CLEANUP(virDomainPtr, pf_virt_domainp, virDomainFree)
PF_DEFINE_CLEANUP(virNetworkPtr, pf_virt_networkp, virNetworkFree)
PF_DEFINE_CLEANUP(virStoragePoolPtr, pf_virt_poolp, virStoragePoolFree)
PF_DEFINE_CLEANUP(virStorageVolPtr, pf_virt_volp, virStorageVolFree)
PF_DEFINE_CLEANUP(struct nl_msg *, pf_nl_msgp, nlmsg_free)

#define _cleanup_xml_doc_ _cleanup_(pf_xml_docp)
#define _cleanup_xml_node_ _cleanup_(pf_xml_nodep)
#define _cleanup_xml_char_ _cleanup_(pf_xml_charp)
#define _cleanup_virt_domain_ _cleanup_(pf_virt_domainp)
#define _cleanup_virt_network_ _cleanup_(pf_virt_networkp)
#define _cleanup_virt_pool_ _cleanup_(pf_virt_poolp)
#define _cleanup_virt_vol_ _cleanup_(pf_virt_volp)
#define _cleanup_nl_msg_ _cleanup_(pf_nl_msgp)
