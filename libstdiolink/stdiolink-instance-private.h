#pragma once

#include "stdiolink-instance.h"
#include "stdiolink-log-writer.h"
#include "stdiolink-process-guard-private.h"

G_BEGIN_DECLS

/* scheduling.md 3.2 */
#define STDIOLINK_INSTANCE_START_TIMEOUT_MS 5000

const char *stdiolink_instance_get_start_failure_code(StdiolinkInstance *inst);
/* how long to wait for the pipes to reach EOF after the process exited */
#define STDIOLINK_INSTANCE_DRAIN_TIMEOUT_MS 1000

/**
 * StdiolinkInstanceParams: (skip)
 *
 * Everything the manager prepared for one instance; the strings are copied.
 */
typedef struct {
	const char *id;
	const char *project_id;
	const char *service_id;
	const char *const *argv;
	const char *const *envp;
	const char *working_directory;
	const char *log_path;
	const char *config_path;	/* deleted with the record */
	StdiolinkProcessGuard *guard;	/* a reference is taken */
	StdiolinkLogWriter *log;	/* a reference is taken */
	guint run_timeout_ms;
	guint start_timeout_ms;
} StdiolinkInstanceParams;

/**
 * StdiolinkInstanceObserver: (skip)
 * @started: the process runs (starting -> running)
 * @start_failed: spawn failure or start timeout; called at most once
 * @finished: called exactly once, after the pipes were drained and the log flushed
 *
 * How an instance reports its life to the manager; all calls happen on the main loop.
 */
typedef struct {
	void (*started)(StdiolinkInstance *inst, gpointer user_data);
	void (*start_failed)(StdiolinkInstance *inst, const char *message, gpointer user_data);
	void (*finished)(StdiolinkInstance *inst,
			 gint exit_code,
			 const char *status,
			 gpointer user_data);
} StdiolinkInstanceObserver;

StdiolinkInstance *stdiolink_instance_new(const StdiolinkInstanceParams *params);
void stdiolink_instance_set_observer(StdiolinkInstance *inst,
				     const StdiolinkInstanceObserver *observer,
				     gpointer user_data);
void stdiolink_instance_launch(StdiolinkInstance *inst);
void stdiolink_instance_terminate(StdiolinkInstance *inst, guint grace_ms);
void stdiolink_instance_kill(StdiolinkInstance *inst);
void stdiolink_instance_release(StdiolinkInstance *inst);

G_END_DECLS
