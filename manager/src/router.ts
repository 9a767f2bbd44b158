import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { kinds } from './entities'
import EntityPage from './pages/EntityPage.vue'
import FilterChainPage from './pages/FilterChainPage.vue'
import PlanPage from './pages/PlanPage.vue'
import FiltersPage from './pages/FiltersPage.vue'
import ConfigPage from './pages/ConfigPage.vue'
import PluginNew from './pages/PluginNew.vue'
import OverviewPage from './pages/OverviewPage.vue'

const routes: RouteRecordRaw[] = [
  { path: '/', component: OverviewPage, meta: { title: 'Overview' } },
  { path: '/filters', component: FiltersPage, meta: { title: 'Filters' } },
  { path: '/config', component: ConfigPage, meta: { title: 'Configuration' } },
  { path: '/plugins/new', component: PluginNew, meta: { title: 'New plugin' } },
  { path: '/filter-chains/new', component: FilterChainPage, meta: { title: 'New filter chain' } },
  { path: '/filter-chains/:id', component: FilterChainPage, meta: { title: 'Filter chain' } },
  { path: '/filter-chains/:id/edit', redirect: (to) => `/filter-chains/${to.params.id}` },
  { path: '/routes/:id/plan', component: PlanPage, meta: { title: 'Execution plan' } },
  ...kinds.flatMap((k): RouteRecordRaw[] => [
    { path: `/${k.path}`, component: EntityPage, props: { kind: k.path, mode: 'list' }, meta: { title: k.title } },
    { path: `/${k.path}/new`, component: EntityPage, props: { kind: k.path, mode: 'new' }, meta: { title: `New ${k.singular}` } },
    { path: `/${k.path}/:id`, component: EntityPage, props: { kind: k.path, mode: 'detail' }, meta: { title: k.title } },
    { path: `/${k.path}/:id/edit`, component: EntityPage, props: { kind: k.path, mode: 'edit' }, meta: { title: `Edit ${k.singular}` } },
  ]),
  { path: '/:rest(.*)', component: OverviewPage, meta: { title: 'Overview' } },
]

export const router = createRouter({ history: createWebHistory(), routes })
router.afterEach((to) => { document.title = `${String(to.meta.title ?? '')} · Gatehouse Manager` })
