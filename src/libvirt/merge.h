/* merge.h: the definition to send for an object that exists: the live document with podform's
 * elements replaced by the desired ones, so that what podform does not manage (a device someone
 * added, the slot libvirt gave a device, a network's DNS entries) stays as it is. */
#pragma once

/* pf_lv_merge_domain: a malloc'd document, or NULL when either does not parse. Ownership
 * metadata stays as it was: a VM podform did not create gets no record. */
char *pf_lv_merge_domain(const char *want_xml, const char *have_xml);
/* pf_lv_merge_network: the same for a network; a bridge name libvirt chose is kept. */
char *pf_lv_merge_network(const char *want_xml, const char *have_xml);
