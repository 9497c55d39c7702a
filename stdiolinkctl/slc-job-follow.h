#pragma once

#include "slc-context.h"

G_BEGIN_DECLS

/* how often a job is asked for when the event stream cannot be used */
#define SLC_JOB_POLL_INTERVAL_MS 250

char *slc_job_path(const char *id, const char *action);
JsonNode *slc_job_submit(SlcContext *ctx,
			 const char *path,
			 JsonNode *body,
			 GBytes **raw_body,
			 GError **error);
JsonNode *slc_job_follow(SlcContext *ctx, const char *job_id, GBytes **raw_job, GError **error);
gboolean slc_job_is_finished(JsonNode *job);
gboolean slc_job_check_outcome(JsonNode *job, GError **error);

G_END_DECLS
