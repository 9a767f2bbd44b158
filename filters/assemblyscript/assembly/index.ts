// Gatehouse "as_headers" test filter, written with the AssemblyScript proxy-wasm SDK
// (@solo-io/proxy-runtime 0.1.8, ABI 0.2.0). Behaviour is specified in ../README.md;
// keep both in sync.
export * from "@solo-io/proxy-runtime/proxy"; // proxy_on_* callbacks, malloc/free, ABI marker
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  log, LogLevelValues, send_local_response, GrpcStatusValues, HeaderPair,
} from "@solo-io/proxy-runtime";
import { get_buffer_bytes, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";

const FILTER = "as_headers";
const LOCAL_HEADER = "x-as-local-response";
const REMOVE_HEADER = "x-as-remove";
const REQUEST_HEADER = "x-as-request";
const CONFIG_HEADER = "x-as-config";

class AsHeadersRoot extends RootContext {
  config: string = "";

  createContext(context_id: u32): Context {
    return new AsHeaders(context_id, this);
  }

  // The SDK's own onConfigure passes the configuration size where the size *pointer* belongs,
  // so read the plugin configuration (buffer 7) through the correct wrapper instead.
  onConfigure(configuration_size: u32): bool {
    const bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    this.config = String.UTF8.decode(bytes);
    log(LogLevelValues.info, FILTER + ": on_configure (" + configuration_size.toString() + " bytes): " + this.config);
    if (this.config == "fail") {
      log(LogLevelValues.error, FILTER + ": configuration 'fail' rejected");
      return false;
    }
    return true;
  }
}

class AsHeaders extends Context {
  root: AsHeadersRoot;

  constructor(context_id: u32, root: AsHeadersRoot) {
    super(context_id, root);
    this.root = root;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const request = stream_context.headers.request;
    const method = request.get(":method");
    const path = request.get(":path");
    log(LogLevelValues.info, FILTER + ": request " + method + " " + path);

    const local = request.get(LOCAL_HEADER);
    if (local != "") {
      let status: u32 = 403;
      const parsed = parseInt(local);
      if (!isNaN(parsed) && parsed >= 200 && parsed <= 599) {
        status = <u32>parsed;
      }
      log(LogLevelValues.info, FILTER + ": local response " + status.toString());
      const extra: HeaderPair[] = [new HeaderPair(String.UTF8.encode("x-as-local"), String.UTF8.encode("yes"))];
      send_local_response(status, "as_headers_local", String.UTF8.encode("as_headers local response\n"),
        extra, GrpcStatusValues.InvalidCode);
      return FilterHeadersStatusValues.StopIteration;
    }

    request.remove(REMOVE_HEADER);
    request.add(REQUEST_HEADER, method + " " + path);
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const config = this.root.config;
    stream_context.headers.response.add(CONFIG_HEADER, config == "" ? "none" : config);
    return FilterHeadersStatusValues.Continue;
  }

  onLog(): void {
    log(LogLevelValues.info, FILTER + ": on_log " + this.context_id.toString());
  }
}

function createRoot(context_id: u32): RootContext {
  return new AsHeadersRoot(context_id);
}

// The SDK picks the root context by the host's "plugin_root_id" property: accept the filter
// name and the empty root id.
registerRootContext(createRoot, FILTER);
registerRootContext(createRoot, "");
