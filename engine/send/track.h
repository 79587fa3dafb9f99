/*
 * track - a prepared campaign's tracking: the open image, the tracked links
 * and the lists whose recipients get {{ confirm_url }}.
 *
 * campaign_track_prepare  set them up from the campaign's row (links stored
 *                         once here, the HTML template rewritten once here)
 * campaign_track_variant  the same for an A/B test's variant with a body of its own
 *                         (its links stored as the campaign's)
 * campaign_track_free     release what it added
 */
#ifndef POSTINO_SEND_TRACK_H
#define POSTINO_SEND_TRACK_H

#include <libpq-fe.h>
#include <stddef.h>

struct prepared_campaign;
struct prepared_variant;

/* campaign_track_prepare - 0, or -1 with a one-line ERR (PC then as it was). */
int campaign_track_prepare(PGconn *conn, struct prepared_campaign *pc, char *err, size_t errlen);
/* campaign_track_variant - V's links tracked (when PC tracks clicks and V has a body); 0, or -1 with ERR */
int campaign_track_variant(PGconn *conn, struct prepared_campaign *pc, struct prepared_variant *v, char *err,
                           size_t errlen);
void campaign_track_free(struct prepared_campaign *pc);

#endif
