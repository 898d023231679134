//! `installgate-bench quick`: the CPU a request costs for authorize and the valid token
//! request only, against the bare reference, in a minute or so: for trying a change (and for a
//! profiler: the gateway's pid is printed first). The full run is `installgate-bench run`.

use std::sync::Arc;

use crate::report::{self, Cost};
use crate::rounds::Bench;
use crate::setup::{Options, Rig};
use crate::{Plan, cpu, wrk};

pub async fn run(options: &Options, rounds: usize) -> anyhow::Result<Vec<Cost>> {
    let mut plan = Plan::new(false);
    plan.rounds = rounds;
    let rig = Rig::start(options).await?;
    eprintln!("gateway pid {}", rig.gateway.child.id());
    let cookie = rig.signed_in_cookie().await?;
    for url in rig.finalize_urls(&cookie, 64, 1).await? {
        rig.client.get(url).send().await?;
    }
    let ids = rig.connection_ids(64).await?;
    let wrk = Arc::new(wrk::Wrk::new(
        &std::env::temp_dir().join("installgate-bench-wrk"),
    )?);
    let bench = Bench::new(&rig, options, plan, wrk).await;
    let gateway = cpu::Meter::new(vec![rig.gateway.child.id()]);
    eprintln!("{}", report::cost_header());
    let mut authorize = wrk::Target {
        base: rig.gateway_url.clone(),
        method: "GET",
        headers: vec![("Cookie".into(), cookie)],
        body: None,
        paths: wrk::Paths::One(format!(
            "/install/hubspot/crm?step=authorize&returnUrl={}",
            crate::setup::encode(crate::setup::RETURN_URL)
        )),
    };
    let mut token = wrk::Target {
        base: rig.gateway_url.clone(),
        method: "POST",
        headers: vec![("Authorization".into(), format!("Bearer {}", rig.api_key))],
        body: None,
        paths: wrk::Paths::Cycle(
            ids.iter()
                .map(|id| format!("/api/v1/connections/{id}/access-token"))
                .collect(),
        ),
    };
    let costs = vec![
        bench
            .measure("authorize (signed in)", &mut authorize, &gateway, None)
            .await?,
        bench
            .measure("access token (valid)", &mut token, &gateway, None)
            .await?,
    ];
    rig.forget_keys().await?;
    Ok(costs)
}
