function [J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, ...
                                   num_labels, X, y, lambda)
%NNCOSTFUNCTION A correct solution with a for-loop over the examples, as the lecture writes backprop.

Theta1 = reshape(nn_params(1:hidden_layer_size * (input_layer_size + 1)), ...
                 hidden_layer_size, (input_layer_size + 1));
Theta2 = reshape(nn_params((1 + (hidden_layer_size * (input_layer_size + 1))):end), ...
                 num_labels, (hidden_layer_size + 1));
m = size(X, 1);
J = 0;
Theta1_grad = zeros(size(Theta1));
Theta2_grad = zeros(size(Theta2));

for t = 1:m
  a1 = [1; X(t, :)'];
  z2 = Theta1 * a1;
  a2 = [1; sigmoid(z2)];
  z3 = Theta2 * a2;
  a3 = sigmoid(z3);
  yk = zeros(num_labels, 1);
  yk(y(t)) = 1;
  J = J + sum(-yk .* log(a3) - (1 - yk) .* log(1 - a3));
  delta3 = a3 - yk;
  delta2 = (Theta2' * delta3) .* [1; sigmoid(z2) .* (1 - sigmoid(z2))];
  delta2 = delta2(2:end);
  Theta1_grad = Theta1_grad + delta2 * a1';
  Theta2_grad = Theta2_grad + delta3 * a2';
end
J = J / m;

reg = 0;
for j = 2:size(Theta1, 2)
  reg = reg + sum(Theta1(:, j) .^ 2);
end
for j = 2:size(Theta2, 2)
  reg = reg + sum(Theta2(:, j) .^ 2);
end
J = J + lambda / (2 * m) * reg;

Theta1_grad = Theta1_grad / m;
Theta2_grad = Theta2_grad / m;
Theta1_grad(:, 2:end) = Theta1_grad(:, 2:end) + (lambda / m) * Theta1(:, 2:end);
Theta2_grad(:, 2:end) = Theta2_grad(:, 2:end) + (lambda / m) * Theta2(:, 2:end);

grad = [Theta1_grad(:) ; Theta2_grad(:)];
end
