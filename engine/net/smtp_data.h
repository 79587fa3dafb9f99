/*
 * smtp_data - a message made ready for the SMTP DATA phase (RFC 5321 4.5.2).
 *
 * smtp_data_stuff  append a message, dot-stuffed and ended by CRLF.CRLF
 *
 * Pure and infallible (allocation failure is fatal, see alloc.h).
 */
#ifndef POSTINO_NET_SMTP_DATA_H
#define POSTINO_NET_SMTP_DATA_H

#include <stddef.h>

#include "engine/util/buf.h"

void smtp_data_stuff(struct buf *out, const void *data, size_t len);

#endif
