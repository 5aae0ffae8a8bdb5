/** "Each request to add batch requests has a maximum payload size of 25MB" (xAI Batch API guide). */
export const MAX_ADD_CALL_BYTES = 25_000_000;

/** `{"batch_requests":[` and `]}` around the requests of one add call. */
export const ADD_BODY_PREFIX = '{"batch_requests":[';
export const ADD_BODY_SUFFIX = "]}";

/**
 * Bytes of an add call's body besides its requests' lines, when each line is counted with its newline (which
 * becomes the comma between requests): the prefix and suffix, less the one newline that has no comma.
 */
export const ADD_BODY_OVERHEAD_BYTES = ADD_BODY_PREFIX.length + ADD_BODY_SUFFIX.length - 1;
