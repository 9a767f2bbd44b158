// Gatehouse "as_my_root" test filter (AssemblyScript proxy-wasm SDK, @solo-io/proxy-runtime 0.1.8,
// ABI 0.2.0): registers its root context under the name "my_root" ONLY, as an Envoy filter built for
// `root_id: my_root` does. A host that answers any other plugin_root_id cannot start it (the SDK
// aborts in proxy_on_context_create). Behaviour is specified in ../README.md; keep both in sync.
export * from "@solo-io/proxy-runtime/proxy"; // proxy_on_* callbacks, malloc/free, ABI marker
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  log, LogLevelValues,
} from "@solo-io/proxy-runtime";
import { get_property } from "@solo-io/proxy-runtime/runtime";

const FILTER = "as_my_root";

class MyRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new MyRootHttp(context_id, this);
  }

  // Reads the configuration size only: the filter takes no configuration.
  onConfigure(configuration_size: u32): bool {
    log(LogLevelValues.info, FILTER + ": on_configure under root id " + String.UTF8.decode(get_property("plugin_root_id")));
    return true;
  }
}

class MyRootHttp extends Context {
  constructor(context_id: u32, root: MyRoot) {
    super(context_id, root);
  }

  // Reports what the host answers for the plugin's root id and vm id, in request and response headers.
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.add("x-as-root-id", String.UTF8.decode(get_property("plugin_root_id")));
    stream_context.headers.request.add("x-as-vm-id", String.UTF8.decode(get_property("plugin_vm_id")));
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-as-root-id", String.UTF8.decode(get_property("plugin_root_id")));
    return FilterHeadersStatusValues.Continue;
  }
}

function createRoot(context_id: u32): RootContext {
  return new MyRoot(context_id);
}

// Only under "my_root": the empty root id (the default) has no factory.
registerRootContext(createRoot, "my_root");
