import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The build goes straight into the gateway's embedded resources (src/Gatehouse/Manager/wwwroot), committed so the
// gateway builds and runs on a machine without Node.
export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: '../src/Gatehouse/Manager/wwwroot',
    emptyOutDir: true,
    // no inline data: URLs for scripts/styles; everything is a file served by admin_gui_listen
    assetsInlineLimit: 0,
    sourcemap: false,
  },
})
