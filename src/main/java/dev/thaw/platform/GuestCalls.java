package dev.thaw.platform;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thaw.vm.CallHandler;

/**
 * Serves a guest's calls to other functions, knowing which function the guest runs: the host
 * decides what a call may do from its own records (the caller's {@code may_call}, the parent
 * invocation the agent connection recorded), never from what the guest claims.
 */
@FunctionalInterface
interface GuestCalls {
    JsonNode serve(FunctionSpec caller, JsonNode call);

    /** The handler for one guest running {@code caller}. */
    default CallHandler forCaller(FunctionSpec caller) {
        return call -> serve(caller, call);
    }
}
