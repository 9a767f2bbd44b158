namespace Gatehouse.Model;

/// <summary>An ACL group membership of a consumer (Kong's <c>acls</c>).</summary>
public sealed record AclModel(Guid Id, Guid ConsumerId, string Group);
