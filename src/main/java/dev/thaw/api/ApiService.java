package dev.thaw.api;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;

import java.util.List;

/** A group of the API's routes, declared as a table of {@link Endpoint}s that also routes them. */
interface ApiService extends HttpService {
    List<Endpoint> endpoints();

    @Override
    default void routing(HttpRules rules) {
        Endpoint.register(rules, endpoints());
    }
}
