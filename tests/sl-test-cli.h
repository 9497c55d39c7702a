#pragma once

#include "sl-daemon-fixture.h"

G_BEGIN_DECLS

/* stdiolinkctl run against a fixture's daemon: each helper asserts instead of failing. */

typedef struct {
	int status; /* the exit status: a run asserts that the CLI exited, not died */
	char *out;
	char *err;
} SlCliResult;

void sl_cli_result_clear(SlCliResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SlCliResult, sl_cli_result_clear)

GPtrArray *sl_cli_argv(SlDaemonFixture *fx, const char *const *args);
int sl_cli_run(SlDaemonFixture *fx, SlCliResult *r, ...) G_GNUC_NULL_TERMINATED;
int sl_cli_run_env(SlDaemonFixture *fx, SlCliResult *r, const char *const *env, ...)
    G_GNUC_NULL_TERMINATED;
JsonNode *sl_cli_parse_json(const SlCliResult *r);

G_END_DECLS
