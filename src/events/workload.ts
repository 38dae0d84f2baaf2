/**
 * Workload getters: the facts about who caused an event, Go's zero value
 * (`0`, `""`, `false`) when the event does not carry them, so Go detector
 * code ports line by line (Tracee's `GetProcessPid`, `GetContainerID`, …).
 *
 * @module
 */
import type { TraceeEvent } from "./model.js";

type E = Pick<TraceeEvent, "workload">;

const process = (e: E) => e.workload?.process;
const thread = (e: E) => e.workload?.process?.thread;
const container = (e: E) => e.workload?.container;
const k8s = (e: E) => e.workload?.k8s;

/** The process id in its pid namespace, or 0. Go: `GetProcessPid`. */
export const getProcessPid = (event: E): number => process(event)?.pid ?? 0;
/** The process id on the host, or 0. Go: `GetProcessHostPid`. */
export const getProcessHostPid = (event: E): number => process(event)?.hostPid ?? 0;
/** The process's entity id (`unique_id`), stable across pid reuse, or 0. Go: `GetProcessEntityId`. */
export const getProcessEntityId = (event: E): number => process(event)?.uniqueId ?? 0;
/** The path of the process's executable, or "". Go: `GetProcessExecutablePath`. */
export const getProcessExecutablePath = (event: E): string => process(event)?.executable?.path ?? "";
/** The process's real user id, or 0. Go: `GetProcessRealUserId`. */
export const getProcessRealUserId = (event: E): number => process(event)?.realUser?.id ?? 0;
/** The thread's name (`comm`), or "". Go: `GetProcessThreadName`. */
export const getProcessThreadName = (event: E): string => thread(event)?.name ?? "";
/** The system call the thread was in, or "". Go: `GetProcessThreadSyscall`. */
export const getProcessThreadSyscall = (event: E): string => thread(event)?.syscall ?? "";
/** The thread id in its pid namespace, or 0. Go: `GetProcessThreadTid`. */
export const getProcessThreadTid = (event: E): number => thread(event)?.tid ?? 0;
/** The thread id on the host, or 0. Go: `GetProcessThreadHostTid`. */
export const getProcessThreadHostTid = (event: E): number => thread(event)?.hostTid ?? 0;
/** The thread's entity id, or 0. Go: `GetProcessThreadEntityId`. */
export const getProcessThreadEntityId = (event: E): number => thread(event)?.uniqueId ?? 0;
/** The container id, or "" on the host. Go: `GetContainerID`. */
export const getContainerId = (event: E): string => container(event)?.id ?? "";
/** The container name, or "". Go: `GetContainerName`. */
export const getContainerName = (event: E): string => container(event)?.name ?? "";
/** The container image name, or "". Go: `GetContainerImageName`. */
export const getContainerImageName = (event: E): string => container(event)?.image?.name ?? "";
/** The container image id, or "". Go: `GetContainerImageId`. */
export const getContainerImageId = (event: E): string => container(event)?.image?.id ?? "";
/** Whether the container had started (not still initializing), false on the host. Go: `GetContainerStarted`. */
export const getContainerStarted = (event: E): boolean => container(event)?.started ?? false;
/** The Kubernetes pod name, or "". Go: `GetK8sPodName`. */
export const getK8sPodName = (event: E): string => k8s(event)?.pod?.name ?? "";
/** The Kubernetes pod uid, or "". Go: `GetK8sPodUid`. */
export const getK8sPodUid = (event: E): string => k8s(event)?.pod?.uid ?? "";
/** The Kubernetes namespace name, or "". Go: `GetK8sNamespaceName`. */
export const getK8sNamespaceName = (event: E): string => k8s(event)?.namespace?.name ?? "";
