namespace DbFirst.Database;

/// <summary>One standby's replication state.</summary>
/// <param name="Name">Its <c>application_name</c> on the primary (the standby's cluster name); null for the server itself.</param>
/// <param name="State">streaming, catchup, … as in <c>pg_stat_replication</c>; "standby" for the server itself.</param>
/// <param name="ReplayLagSeconds">How far behind its replay is (0 when it has replayed everything it received).</param>
/// <param name="BehindBytes">WAL not yet replayed.</param>
internal sealed record StandbyLag(string? Name, string State, double? ReplayLagSeconds, long? BehindBytes);
